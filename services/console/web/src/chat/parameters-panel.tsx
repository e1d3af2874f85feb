import type { Parameters } from './respond';

/** What is wrong with the parameters, said before anything is sent; undefined when nothing. */
export function invalidParameter(parameters: Parameters): string | undefined {
  const { temperature, topP, maxOutputTokens, seed } = parameters;
  if (temperature !== undefined && (temperature < 0 || temperature > 2)) {
    return 'Temperature goes from 0 to 2 (System prompt and parameters).';
  }
  if (topP !== undefined && (topP < 0 || topP > 1)) {
    return 'Top p goes from 0 to 1 (System prompt and parameters).';
  }
  if (
    maxOutputTokens !== undefined &&
    (!Number.isInteger(maxOutputTokens) || maxOutputTokens < 1)
  ) {
    return 'Max tokens is a whole number from 1 (System prompt and parameters).';
  }
  if (seed !== undefined && !Number.isInteger(seed)) {
    return 'The seed is a whole number (System prompt and parameters).';
  }
  return undefined;
}

/** A number field: empty means the server's default. */
function NumberField(props: {
  id: string;
  label: string;
  value: number | undefined;
  step: string;
  min?: number;
  max?: number;
  onChange: (value: number | undefined) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="number"
        step={props.step}
        min={props.min}
        max={props.max}
        placeholder="default"
        value={props.value ?? ''}
        onInput={(event) => {
          const text = event.currentTarget.value;
          props.onChange(text === '' || Number.isNaN(Number(text)) ? undefined : Number(text));
        }}
      />
    </div>
  );
}

/** The system prompt and sampling parameters of the next answers. */
export function ParametersPanel(props: {
  parameters: Parameters;
  onChange: (parameters: Parameters) => void;
}) {
  const { parameters, onChange } = props;
  const set = (patch: Partial<Parameters>) => onChange({ ...parameters, ...patch });
  return (
    <details class="parameters">
      <summary>System prompt and parameters</summary>
      <div class="field wide">
        <label for="system-prompt">System prompt</label>
        <textarea
          id="system-prompt"
          rows={3}
          value={parameters.system}
          onInput={(event) => set({ system: event.currentTarget.value })}
        />
      </div>
      <div class="fields">
        <NumberField
          id="temperature"
          label="Temperature"
          step="0.1"
          min={0}
          max={2}
          value={parameters.temperature}
          onChange={(temperature) => set({ temperature })}
        />
        <NumberField
          id="top-p"
          label="Top p"
          step="0.05"
          min={0}
          max={1}
          value={parameters.topP}
          onChange={(topP) => set({ topP })}
        />
        <NumberField
          id="max-tokens"
          label="Max tokens"
          step="1"
          min={1}
          value={parameters.maxOutputTokens}
          onChange={(maxOutputTokens) => set({ maxOutputTokens })}
        />
        <NumberField
          id="seed"
          label="Seed"
          step="1"
          value={parameters.seed}
          onChange={(seed) => set({ seed })}
        />
      </div>
    </details>
  );
}
