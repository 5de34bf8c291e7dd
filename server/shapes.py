"""The wire's payloads and the parts' records as TypedDicts, key for key as the protocol names them (docs/PROTOCOL.md).

A key marked NotRequired is optional in the protocol (or sent only in some cases); keys noted "the server's
own" are additions the protocol allows ("a server or client may add fields of its own"). Every part may import
this module: the library, the graph and tuning build these records, the chat service and the faces send them.
No `from __future__ import annotations` here: NotRequired is read when a class is made (__optional_keys__).
"""
from typing import Literal, NotRequired, TypedDict, Union

FinishReason = Literal["stop", "length", "cancelled", "error"]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class ErrorBody(TypedDict):
    """`error` of a refused request: {code, message}."""
    code: str
    message: str


# --- connecting: `ready` ------------------------------------------------------------------------------------

class AttachmentRef(TypedDict):
    """An attachment as a history message names it."""
    id: str
    name: str
    type: str


class HistoryMessage(TypedDict):
    """One message of `ready.history` (user and assistant only, oldest first)."""
    role: Literal["user", "assistant"]
    content: str
    reasoning: NotRequired[str]
    attachments: NotRequired[list[AttachmentRef]]
    sources: NotRequired[list["Source"]]  # a grounded reply keeps what its `done` carried
    grounding: NotRequired["Grounding"]
    answer: NotRequired["Answer"]


class ConversationSummary(TypedDict):
    """An entry of `list` and `ready.conversations` (times in ISO 8601 UTC)."""
    session_id: str
    title: str
    created_at: str
    updated_at: str
    messages: int
    active_request_id: NotRequired[str | None]


class BackendInfo(TypedDict):
    """An entry of `ready.backends` and GET /api/backends."""
    name: str
    models: list[str]
    default_model: str
    label: str  # the server's own from here on: a human name, a hint, the model's state
    hint: str
    model_ready: bool
    status: str
    tuned: NotRequired[list[dict]]  # 1.2: fine-tuned models, each with `tuned_from`


class Limits(TypedDict):
    max_message_chars: int
    max_tokens: int  # the server's own: the cap on params.max_tokens


class Ready(TypedDict):
    """`ready`, emitted on connect."""
    session_id: str
    history: list[HistoryMessage]
    backends: list[BackendInfo]
    default_backend: str | None
    limits: Limits
    client_id: str  # 1.1
    conversations: list[ConversationSummary]
    conversations_more: bool  # the server's own: more summaries than the first page
    active_request_id: str | None


# --- a reply: `token`, `queued`, `done`, `error` ---------------------------------------------------------------

class Token(TypedDict):
    request_id: str
    seq: int
    text: str
    kind: NotRequired[Literal["reasoning"]]


class Queued(TypedDict):
    request_id: str
    position: int


class Usage(TypedDict):
    prompt_tokens: int | None
    completion_tokens: int | None


class Timings(TypedDict):
    ttft_ms: float
    total_ms: float
    tokens_per_s: float


class PassageSource(TypedDict):
    """A library passage a grounded reply cites as [n]."""
    n: int
    kind: NotRequired[Literal["passage"]]
    document_id: str
    title: str
    chunk_id: str
    text: str
    score: float
    page: NotRequired[int | None]  # the server's own: where in the document, and the sentences that answer best
    sentences: NotRequired[list[str]]


class EntityRef(TypedDict):
    """A fact's end: {id, name, type}."""
    id: str
    name: str
    type: str


# A fact's source: {document, title, passage?} or {import, file} ("import" is a keyword: the functional form).
DocumentCitation = TypedDict("DocumentCitation", {"document": str, "title": str, "passage": NotRequired[str]})
ImportCitation = TypedDict("ImportCitation", {"import": str, "file": str})
Citation = Union[DocumentCitation, ImportCitation]


class FactSource(TypedDict):
    """A fact of the graph a grounded reply cites as [n]."""
    n: int
    kind: Literal["fact"]
    head: str
    relation: str
    tail: str
    sources: list[Citation]


Source = Union[PassageSource, FactSource]


class PassageQuote(TypedDict):
    n: int
    kind: Literal["passage"]
    title: str
    sentence: str


class FactQuote(TypedDict):
    n: int
    kind: Literal["fact"]
    head: str
    relation: str
    tail: str


class Grounding(TypedDict):
    """`done.grounding`: {supported: true} or {supported: false, quote} (no quote where nothing can be quoted)."""
    supported: bool
    quote: NotRequired[PassageQuote | FactQuote]


FactsAnswer = TypedDict("FactsAnswer", {"from": Literal["facts"], "facts": list[int]})  # "from" is a keyword
PassagesAnswer = TypedDict("PassagesAnswer", {"from": Literal["passages"], "passages": list[int]})
Answer = FactsAnswer | PassagesAnswer


class Done(TypedDict):
    """`done`: exactly one for every accepted chat."""
    request_id: str
    finish_reason: FinishReason
    text: str
    reasoning: NotRequired[str]
    usage: NotRequired[Usage]
    timings: NotRequired[Timings]
    sources: NotRequired[list[Source]]
    grounding: NotRequired[Grounding]
    answer: NotRequired[Answer]


class ErrorEvent(TypedDict):
    request_id: NotRequired[str]
    code: str
    message: str


# --- the library --------------------------------------------------------------------------------------------

class Document(TypedDict):
    """A document of the library (POST and GET /api/kb/documents)."""
    id: str
    title: str
    bytes: int
    chunks: int
    created_at: str
    ocr: NotRequired[Literal[True]]  # 1.3: its text was read from pictures
    duplicate: NotRequired[bool]  # the server's own: the same bytes were added before, this is that document


class SearchResult(TypedDict):
    """One of POST /api/kb/search's results, best first."""
    document_id: str
    title: str
    chunk_id: str
    text: str
    score: float
    page: int | None  # the server's own: the page of a PDF the passage is on


class Attachment(TypedDict):
    """POST /api/attachments' `attachment` (1.3)."""
    id: str
    name: str
    type: str
    bytes: int
    chars: int
    text_preview: str


# --- the graph ----------------------------------------------------------------------------------------------

class Entity(TypedDict):
    """GET /api/graph/entities' entries and an entity's own view."""
    id: str
    name: str
    type: str
    aliases: list[str]
    facts: int


class Fact(TypedDict):
    """A fact as GET /api/graph/entities/ID shows it."""
    id: str
    head: EntityRef
    relation: str
    tail: EntityRef
    sources: list[Citation]
    confidence: NotRequired[float]  # 1.3: a fact a build found, its surest finding
    extractor: NotRequired[str]
    hop: NotRequired[int]  # the server's own: how many links from the question's entities (a chat's evidence)


# --- fine-tuning --------------------------------------------------------------------------------------------

class Examples(TypedDict):
    train: int
    eval: int


class TuningJob(TypedDict):
    """A fine-tuning job (GET /api/tuning/jobs/ID, Socket.IO `tuning_progress`)."""
    id: str
    name: str
    base: str
    status: JobStatus
    step: int
    steps: int
    epoch: float
    loss: list[list[float]]  # [[step, value], ...]
    eval_loss: list[list[float]]
    eta_s: float | None
    error: NotRequired[str]
    examples: Examples
    samples: NotRequired[list[dict]]  # the server's own: replies of the tuned model to a few prompts
