import type { Fleet } from '../fleet/fleet-data';

/** A model of a chat service: what the picker offers. */
export interface ModelChoice {
  service: string;
  model: string;
}

export function choiceKey(choice: ModelChoice): string {
  return `${choice.service}/${choice.model}`;
}

/** Every model of every chat service (a service keeping conversations), by service. */
export function chatModels(fleet: Fleet | undefined): ModelChoice[] {
  return (fleet?.services ?? [])
    .filter((service) => service.chat)
    .flatMap((service) =>
      (service.models ?? []).map((model) => ({ service: service.name, model: model.id })),
    );
}
