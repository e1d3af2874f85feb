/*
 * What the engine refuses with. Domain errors, free of HTTP: errors.ts maps
 * them to the error catalogue (status, code, Retry-After) in one place.
 */

/** No place left in the model's waiting queue. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(
    readonly running: number,
    readonly waiting: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `The server is at capacity (${running} running, ${waiting} waiting). Retry after ${retryAfterSeconds} s.`,
    );
  }
}

/** A job waited longer than the queue allows for a sequence. */
export class QueueTimeoutError extends Error {
  override readonly name = 'QueueTimeoutError';
  constructor(
    readonly maxWaitMs: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `The request waited ${maxWaitMs} ms for capacity without getting it. Retry after ${retryAfterSeconds} s.`,
    );
  }
}

/**
 * A preemptible batch job gave its sequences to an interactive job that found none free.
 * Its work so far is dropped; whoever runs it (the batch runner) runs it again later.
 */
export class PreemptedError extends Error {
  override readonly name = 'PreemptedError';
  constructor() {
    super(
      'This batch work gave its sequence to an interactive request and stopped; it runs again when a sequence is free.',
    );
  }
}

/** The prompt does not fit the model's context (with room for one answer token). */
export class ContextLengthExceededError extends Error {
  override readonly name = 'ContextLengthExceededError';
  constructor(
    readonly promptTokens: number,
    readonly contextSize: number,
    /** The request field the prompt came from: chat messages, a raw prompt, a decision's input. */
    readonly input: 'messages' | 'prompt' | 'input',
  ) {
    super(
      `This model's maximum context length is ${contextSize} tokens, but the ${input === 'input' ? 'input with a question and its longest answer' : 'prompt'} has ${promptTokens} tokens.`,
    );
  }
}

/** Token ids outside the model's vocabulary. */
export class TokenOutOfRangeError extends Error {
  override readonly name = 'TokenOutOfRangeError';
  constructor(
    readonly token: number,
    readonly vocabularySize: number,
  ) {
    super(
      `The prompt has token id ${token}, but this model's token ids run from 0 to ${vocabularySize - 1}.`,
    );
  }
}

/** A client's JSON schema that is broken, or that llama.cpp grammars cannot enforce. */
export class InvalidSchemaError extends Error {
  override readonly name = 'InvalidSchemaError';
  constructor(
    /** Where the schema came from in the request (e.g. `tools.0.function.parameters`). */
    readonly origin: string,
    message: string,
  ) {
    super(message);
  }
}

/** The generation ran longer than its time limit and was stopped. */
export class GenerationTimeoutError extends Error {
  override readonly name = 'GenerationTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(
      `Generation exceeded ${timeoutMs} ms and was stopped. Ask for fewer tokens (max_tokens) or retry.`,
    );
  }
}

/** More choices (n) than the model has sequences: such a job could never start. */
export class TooManyChoicesError extends Error {
  override readonly name = 'TooManyChoicesError';
  constructor(
    readonly choices: number,
    readonly sequences: number,
  ) {
    super(`${choices} choices asked, but the model has ${sequences} sequences.`);
  }
}
