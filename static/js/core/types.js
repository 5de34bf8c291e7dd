// The shapes the core reads and keeps, as JSDoc typedefs (docs/PROTOCOL.md is the contract they follow).
// No code: `import('./types.js').Done` names one in a JSDoc comment, and tsc --checkJs (tests/test_lint.py)
// checks the core's uses of them.

// ---- What the server sends -------------------------------------------------------------------------------

/**
 * @typedef {object} Ready The first event of a (re)connect.
 * @property {string} session_id
 * @property {string} [client_id] protocol 1.1: the client the socket acts as
 * @property {HistoryMessage[]} history
 * @property {Backend[]} backends
 * @property {string} default_backend
 * @property {Limits} limits
 * @property {string|null} active_request_id a reply still streaming in this conversation
 * @property {ConversationSummary[]} [conversations] protocol 1.1: the first page of the list
 * @property {boolean} [conversations_more]
 * @property {ChatSettings} [settings] this conversation's kept settings
 */

/**
 * @typedef {object} Backend
 * @property {string} name
 * @property {string} [label] a name to show a person
 * @property {string} [hint] one line on getting a stronger model, or ''
 * @property {string[]} [models]
 * @property {string} [default_model]
 * @property {boolean} [model_ready]
 * @property {string} [status]
 * @property {number} [progress] 0-1 while a local model loads
 * @property {{model: string, tuned_from: string}[]} [tuned] fine-tuned models (protocol 1.2)
 */

/** @typedef {{max_message_chars?: number, max_tokens?: number}} Limits */

/**
 * @typedef {object} HistoryMessage A message of `ready`, `history`, `truncate` and `open`.
 * @property {'user'|'assistant'} role
 * @property {string} content
 * @property {string} [reasoning]
 * @property {string} [created_at]
 * @property {Source[]} [sources] a grounded reply's, as its `done` carried them
 * @property {Grounding} [grounding]
 * @property {Attachment[]} [attachments] a question's (protocol 1.3)
 */

/**
 * @typedef {object} Token One piece of a reply, numbered from 0 without gaps.
 * @property {string} request_id
 * @property {number} seq
 * @property {string} text
 * @property {'reasoning'} [kind] thinking text, shown apart
 */

/** @typedef {{request_id: string, position: number}} Queued Waiting for the local model; 1 = next. */

/** @typedef {'stop'|'length'|'cancelled'|'error'} FinishReason */

/**
 * @typedef {object} Done The one end of every accepted chat.
 * @property {string} [request_id]
 * @property {FinishReason} finish_reason
 * @property {string} [text] the whole reply
 * @property {string} [reasoning]
 * @property {Usage} [usage]
 * @property {Timings} [timings]
 * @property {Source[]} [sources] a chat with `knowledge` or `graph`: what the model was given
 * @property {Grounding} [grounding] a grounded reply's check against its evidence
 * @property {{from: 'facts', facts: number[]} | {from: 'passages', passages: number[]}} [answer] a reply composed from the graph's facts or the library's evidence
 */

/** @typedef {{prompt_tokens?: number, completion_tokens?: number}} Usage */
/** @typedef {{ttft_ms?: number, total_ms?: number, tokens_per_s?: number}} Timings */

/** @typedef {{request_id?: string, code: string, message: string}} ServerError The `error` event. */

/**
 * @typedef {object} ModelStatus The `status` event: a local model loading.
 * @property {string} backend
 * @property {boolean} model_ready
 * @property {number} [progress]
 * @property {string} [message]
 * @property {string} [error]
 */

// ---- Evidence: sources and grounding ------------------------------------------------------------------------

/**
 * @typedef {object} PassageSource A library passage the model was given, numbered [n] from 1.
 * @property {number} n
 * @property {'passage'} [kind]
 * @property {string} document_id
 * @property {string} title
 * @property {string} [chunk_id]
 * @property {number|null} [page]
 * @property {string} text
 * @property {number} [score]
 * @property {string[]} [sentences] the evidence sentences used, verbatim in `text`
 */

/**
 * @typedef {object} FactSource A fact of the knowledge graph the model was given.
 * @property {number} n
 * @property {'fact'} kind
 * @property {string} [id]
 * @property {Entity} head
 * @property {string} relation
 * @property {Entity} tail
 * @property {object[]} [sources] the passages the fact was read from
 */

/** @typedef {PassageSource|FactSource} Source */

/** @typedef {{id?: string, name: string, type?: string}} Entity */

/**
 * @typedef {object} Grounding A grounded reply's check; the core adds `lang`, the note's language.
 * @property {boolean} supported
 * @property {Quote} [quote] the evidence an unsupported reply is shown against
 * @property {'zh'|'en'} [lang]
 */

/**
 * @typedef {object} Quote
 * @property {number} n the source it comes from
 * @property {'passage'|'fact'} [kind]
 * @property {string} [title]
 * @property {string} [sentence]
 * @property {Entity|string} [head] a fact's, as a name or an entity
 * @property {string} [relation]
 * @property {Entity|string} [tail]
 */

/** @typedef {{id: string, name: string, type: string, chars?: number}} Attachment */

// ---- Settings -------------------------------------------------------------------------------------------------

/**
 * @typedef {object} Params The protocol's sampling parameters; a missing one is the server's default.
 * @property {number} [temperature] 0-2
 * @property {number} [top_p] (0-1]
 * @property {number} [top_k] integer >= 0
 * @property {number} [max_tokens] integer >= 1
 * @property {number} [repetition_penalty] 1-2
 * @property {boolean} [do_sample]
 */

/**
 * @typedef {object} ChatSettings A conversation's settings as the core keeps them (normalizeChatSettings).
 * @property {string} backend '' for the server's default
 * @property {string} model
 * @property {string} system
 * @property {Params} params
 * @property {boolean} [knowledge] answer from the library
 * @property {boolean} [graph] answer from the knowledge graph
 */

/**
 * @typedef {object} ConversationSummary
 * @property {string} session_id
 * @property {string} title
 * @property {string} created_at ISO 8601 UTC
 * @property {string} updated_at
 * @property {number} messages
 * @property {string} [active_request_id]
 */

// ---- Fine-tuning ------------------------------------------------------------------------------------------------

/** @typedef {'queued'|'running'|'done'|'failed'|'cancelled'|'deleted'} JobStatus */

/**
 * @typedef {object} Job A fine-tuning job, as GET /api/tuning/jobs and `tuning_progress` send it.
 * @property {string} id
 * @property {string} [name] the tuned model's id
 * @property {string} [base]
 * @property {JobStatus} status `deleted` only in the last `tuning_progress` of a job
 * @property {number} [step]
 * @property {number} [steps]
 * @property {number} [epoch]
 * @property {[number, number][]} [loss] [step, value] at every step
 * @property {[number, number][]} [eval_loss] [step, value] about ten times a job
 * @property {number|null} [eta_s]
 * @property {string} [error] why it failed, a sentence
 * @property {{train: number, eval: number}} [examples]
 * @property {{question: string, expected: string, before: string, after: string|null, held_out: boolean}[]} [samples]
 */

// ---- What the core keeps ------------------------------------------------------------------------------------------

/**
 * @typedef {object} Message A message on screen (newMessage), a reply's as it streams and after.
 * @property {string} id
 * @property {'user'|'assistant'} role
 * @property {string} content
 * @property {string} reasoning
 * @property {'sending'|'streaming'|'done'|'error'|'failed'} status
 * @property {string} finishReason
 * @property {string} error
 * @property {string} [errorCode]
 * @property {string} requestId
 * @property {number} queuePosition
 * @property {Usage} [usage]
 * @property {Timings} [timings]
 * @property {Source[]} [sources]
 * @property {Grounding} [grounding]
 * @property {Attachment[]} [attachments]
 */

/**
 * @typedef {object} Reply A reply being followed (stream.js newReply): its request, message and progress.
 * @property {string} requestId
 * @property {string} msgId
 * @property {number} lastSeq the last token applied; -1 before the first
 * @property {string} answer
 * @property {string} reasoning
 * @property {boolean} resumePending a resume was asked for and its replay may still come
 * @property {Done|null} stashedDone a `done` that overtook the replay
 * @property {ReturnType<typeof setTimeout>} [stashTimer]
 * @property {boolean} syncOnDone read the history when it ends (the question came from elsewhere)
 * @property {string|null} [userId] the message of its question, when this client shows it
 */

/** @typedef {{ok: boolean, error?: {code: string, message: string}, [field: string]: any}} Ack An event's answer. */

/**
 * @typedef {object} Transport What a shell hands the core: a socket that answers with acknowledgements.
 * @property {boolean} connected
 * @property {(event: string, data: object) => Promise<Ack>} request
 */

/**
 * @typedef {object} Storage Kept values that never throw (localStorage on the page, uni's storage in the app).
 * @property {(key: string, fallback?: any) => any} get
 * @property {(key: string, value: any) => void} set
 * @property {(key: string) => void} remove
 */

export {}
