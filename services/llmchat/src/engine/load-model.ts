import { basename } from 'node:path';
import { ModelLoadError } from '@hrserve/models';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import type { EngineOptions, ModelFile } from './options.js';

export interface LoadedModel extends ModelFile {
  llama: Llama;
  model: LlamaModel;
}

/** Loads a sized model file's weights into `llama`. */
export async function loadModel(
  file: ModelFile,
  options: EngineOptions,
  llama: Llama,
): Promise<LoadedModel> {
  let model: LlamaModel;
  try {
    model = await llama.loadModel({
      modelPath: file.path,
      gpuLayers: llama.gpu === false ? 0 : options.gpuLayers,
    });
  } catch (error) {
    throw new ModelLoadError(
      `llama.cpp could not load ${basename(file.path)} (${error instanceof Error ? error.message : String(error)}). Check that the file is a complete, uncorrupted GGUF model.`,
      { cause: error },
    );
  }
  return { ...file, llama, model };
}
