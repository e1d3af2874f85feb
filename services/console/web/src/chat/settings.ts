import type { Parameters } from './respond';

const KEY = 'hrserve-console.parameters';

export const DEFAULT_PARAMETERS: Parameters = {
  system: '',
  temperature: undefined,
  topP: undefined,
  maxOutputTokens: undefined,
  seed: undefined,
};

/** This browser's parameters (system prompt, sampling), kept across reloads. */
export function loadParameters(): Parameters {
  try {
    return { ...DEFAULT_PARAMETERS, ...JSON.parse(localStorage.getItem(KEY) ?? '{}') };
  } catch {
    return DEFAULT_PARAMETERS;
  }
}

export function saveParameters(parameters: Parameters): void {
  localStorage.setItem(KEY, JSON.stringify(parameters));
}

const MODEL_KEY = 'hrserve-console.model';

/** The model last picked here, as `service/model`. */
export function loadModelChoice(): string | undefined {
  return localStorage.getItem(MODEL_KEY) ?? undefined;
}

export function saveModelChoice(choice: string): void {
  localStorage.setItem(MODEL_KEY, choice);
}
