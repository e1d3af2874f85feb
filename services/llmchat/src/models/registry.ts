import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve as resolvePath } from 'node:path';
import { isRemoteSource } from '@hrserve/models';
import { GgufFileType, readGgufFileInfo } from 'node-llama-cpp';
import type { LlmchatConfig } from '../config.js';
import { FileDigests } from './file-digest.js';

/** A model clients may name, and where it comes from. */
export interface ModelEntry {
  /** The id clients use; `aliases` name it too. */
  name: string;
  aliases: string[];
  /** A GGUF path, or an hf: URI / URL downloaded on first load. */
  source: string;
  /** The setting it came from, named in error messages. */
  origin: 'LLMCHAT_MODEL' | 'LLMCHAT_MODELS' | 'LLMCHAT_MODELS_DIR';
}

/** What a listing tells of a model, read from its file without loading it. */
export interface ModelFacts {
  size_bytes: number;
  modified_at: string;
  /** Architecture, e.g. llama. */
  family: string | undefined;
  /** e.g. Q8_0, F32. */
  quantization: string | undefined;
  /** From the GGUF metadata, else counted from the tensor shapes. */
  parameter_count: number | undefined;
  context_length: number | undefined;
  /** sha256 of the file, hex; undefined until computed in the background. */
  digest: string | undefined;
}

/** A name for a source: the file name without `.gguf` (for a URI, its last part). */
export function nameOf(source: string): string {
  const last =
    source
      .replace(/^(hf:|huggingface:)/i, '')
      .split(/[\\/]/)
      .pop() ?? source;
  return last.replace(/\.gguf$/i, '');
}

/**
 * Every model this server can serve: the default (`LLMCHAT_MODEL`), explicit
 * entries (`LLMCHAT_MODELS`), and every `.gguf` file in `LLMCHAT_MODELS_DIR`,
 * rescanned when asked so files dropped in later are found. A request's model
 * name is only ever compared with these names — never joined to a path — so
 * no name reaches a file outside the configured places.
 */
export class ModelRegistry {
  private readonly fixed: ModelEntry[] = [];
  private scanned: ModelEntry[] = [];
  private readonly facts = new Map<string, { mtimeMs: number; facts: ModelFacts }>();
  private readonly digests = new FileDigests();

  constructor(private readonly config: LlmchatConfig) {
    if (config.LLMCHAT_MODEL) {
      const [name, ...aliases] = config.LLMCHAT_MODEL_ALIAS?.length
        ? config.LLMCHAT_MODEL_ALIAS
        : [nameOf(config.LLMCHAT_MODEL)];
      this.fixed.push({
        name: name ?? nameOf(config.LLMCHAT_MODEL),
        aliases,
        source: config.LLMCHAT_MODEL,
        origin: 'LLMCHAT_MODEL',
      });
    }
    for (const { name, source } of config.LLMCHAT_MODELS ?? []) {
      if (!this.fixed.some((entry) => namesOf(entry).includes(name))) {
        this.fixed.push({ name, aliases: [], source, origin: 'LLMCHAT_MODELS' });
      }
    }
  }

  /** The model loaded at start, if one is configured. */
  get defaultModel(): ModelEntry | undefined {
    return this.fixed.find((entry) => entry.origin === 'LLMCHAT_MODEL');
  }

  /** All models, the models directory rescanned. */
  async list(): Promise<ModelEntry[]> {
    await this.scan();
    return [...this.fixed, ...this.scanned];
  }

  /** The model a client's name means (exact, or Ollama's `name:latest`), rescanning the directory once if unknown. */
  async resolve(requested: string): Promise<ModelEntry | undefined> {
    const find = () => {
      const all = [...this.fixed, ...this.scanned];
      return (
        all.find((entry) => namesOf(entry).includes(requested)) ??
        all.find((entry) => namesOf(entry).includes(requested.replace(/:latest$/, '')))
      );
    };
    const known = find();
    if (known) return known;
    await this.scan();
    return find();
  }

  /** Size, family, quantization and context of a model's file (undefined until an hf: model is downloaded). */
  async factsOf(entry: ModelEntry, path = entry.source): Promise<ModelFacts | undefined> {
    if (isRemoteSource(path)) return undefined;
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      return undefined;
    }
    const digest = this.digests.digestOf(path, info.size, info.mtimeMs);
    const cached = this.facts.get(path);
    if (cached && cached.mtimeMs === info.mtimeMs) return { ...cached.facts, digest };
    const facts: ModelFacts = {
      size_bytes: info.size,
      modified_at: info.mtime.toISOString(),
      family: undefined,
      quantization: undefined,
      parameter_count: undefined,
      context_length: undefined,
      digest,
    };
    try {
      // Tensor shapes too (header only): they give the parameter count when the metadata lacks it.
      const gguf = await readGgufFileInfo(path, { readTensorInfo: true });
      const architecture = gguf.metadata.general?.architecture;
      facts.family = architecture;
      const fileType = gguf.metadata.general?.file_type;
      facts.quantization =
        fileType === undefined ? undefined : GgufFileType[fileType]?.replace(/^(MOSTLY|ALL)_/, '');
      const block = architecture
        ? ((gguf.metadata as unknown as Record<string, { context_length?: number }>)[
            architecture
          ] ?? {})
        : {};
      facts.context_length = block.context_length;
      facts.parameter_count =
        (gguf.metadata.general as { parameter_count?: number } | undefined)?.parameter_count ??
        parametersOf(gguf.fullTensorInfo ?? gguf.tensorInfo);
    } catch {
      // Not a readable GGUF: listed with its size; loading it says what is wrong.
    }
    this.facts.set(path, { mtimeMs: info.mtimeMs, facts });
    return facts;
  }

  private async scan(): Promise<void> {
    const directory = this.config.LLMCHAT_MODELS_DIR;
    let files: string[];
    try {
      files = await readdir(directory);
    } catch {
      this.scanned = [];
      return;
    }
    // A file also named by LLMCHAT_MODEL(S) is served under that name only (one load, not two).
    const taken = new Set(this.fixed.flatMap(namesOf));
    const claimed = new Set(this.fixed.map((entry) => resolvePath(entry.source)));
    this.scanned = files
      .filter((file) => file.toLowerCase().endsWith('.gguf'))
      .sort()
      .map((file) => ({
        name: basename(file, file.slice(-5)),
        aliases: [],
        source: join(directory, file),
        origin: 'LLMCHAT_MODELS_DIR' as const,
      }))
      .filter((entry) => !taken.has(entry.name) && !claimed.has(resolvePath(entry.source)));
  }
}

/** Parameters counted from tensor shapes: each tensor's dimensions multiplied, summed. */
function parametersOf(
  tensors: ReadonlyArray<{ dimensions: ReadonlyArray<number | bigint> }> | undefined,
): number | undefined {
  if (!tensors || tensors.length === 0) return undefined;
  return tensors.reduce(
    (total, tensor) =>
      total + tensor.dimensions.reduce<number>((product, size) => product * Number(size), 1),
    0,
  );
}

export function namesOf(entry: ModelEntry): string[] {
  return [entry.name, ...entry.aliases];
}
