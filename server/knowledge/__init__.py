"""The knowledge base: documents in, ranked passages out; knows nothing of Flask or Socket.IO."""
from .service import KnowledgeBase, build_knowledge_base

__all__ = ["KnowledgeBase", "build_knowledge_base"]
