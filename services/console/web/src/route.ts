import { useEffect, useState } from 'preact/hooks';

/** The page's place, in the URL's hash so a reload comes back to it. */
export type Route = { page: 'chat'; service?: string; conversation?: string } | { page: 'fleet' };

/** Service names and conversation ids are plain words; a link with anything else opens the chat. */
const NAME = /^[\w-]{1,128}$/;

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return '';
  }
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decoded);
  if (parts[0] === 'fleet') return { page: 'fleet' };
  const [, service = '', conversation = ''] = parts;
  if (parts[0] === 'chat' && NAME.test(service) && NAME.test(conversation)) {
    return { page: 'chat', service, conversation };
  }
  return { page: 'chat' };
}

export function hrefOf(route: Route): string {
  if (route.page === 'fleet') return '#/fleet';
  if (route.service && route.conversation) {
    return `#/chat/${encodeURIComponent(route.service)}/${encodeURIComponent(route.conversation)}`;
  }
  return '#/';
}

export function navigate(route: Route): void {
  const href = hrefOf(route);
  if (window.location.hash !== href) window.location.hash = href;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
