import { useEffect, useState } from 'preact/hooks';

type MarkdownModule = typeof import('../markdown');

let loaded: MarkdownModule | undefined;
let loading: Promise<MarkdownModule> | undefined;

/**
 * The Markdown renderer (marked and highlight.js: two thirds of the page's script) comes in
 * a chunk of its own, fetched once the chat is ready or an answer is on screen: the page
 * shows before it, and the fleet page never waits for it.
 */
export function loadMarkdown(): Promise<MarkdownModule> {
  loading ??= import('../markdown').then(
    (module) => {
      loaded = module;
      return module;
    },
    (error: unknown) => {
      // Asked again next time (a rebuild replaced the chunk, the network blinked).
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/** The renderer once it is here (an answer shows as plain text for the moment before). */
export function useMarkdown(): MarkdownModule | undefined {
  const [module, setModule] = useState(loaded);
  useEffect(() => {
    if (!module) loadMarkdown().then(setModule, () => undefined);
  }, [module]);
  return module;
}
