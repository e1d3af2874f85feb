import { useCallback, useEffect, useState } from 'preact/hooks';
import { callJson, LOGGED_OUT_EVENT } from './api';
import { ChatPage } from './chat/chat-page';
import { FleetPage } from './fleet/fleet-page';
import { LoginPage } from './login';
import { hrefOf, useRoute } from './route';

interface SessionState {
  login_required: boolean;
  logged_in: boolean;
}

/** The shell: a login first when the console has API keys, then the chat and fleet pages. */
export function App() {
  const [session, setSession] = useState<SessionState | undefined>();
  const [sessionError, setSessionError] = useState<string | undefined>();
  const route = useRoute();

  const refresh = useCallback(() => {
    callJson<SessionState>('/console/session')
      .then((state) => {
        setSession(state);
        setSessionError(undefined);
      })
      .catch((error: unknown) => setSessionError(String(error)));
  }, []);

  useEffect(() => {
    refresh();
    const loggedOut = () => setSession((state) => state && { ...state, logged_in: false });
    window.addEventListener(LOGGED_OUT_EVENT, loggedOut);
    return () => window.removeEventListener(LOGGED_OUT_EVENT, loggedOut);
  }, [refresh]);

  if (sessionError) {
    return (
      <main class="centered">
        <h1>hrserve console</h1>
        <p role="alert">The console does not answer: {sessionError}</p>
      </main>
    );
  }
  if (!session) {
    return (
      <main class="centered" aria-busy="true">
        <h1>hrserve console</h1>
        <p>Connecting…</p>
      </main>
    );
  }
  if (!session.logged_in) return <LoginPage onLoggedIn={refresh} />;

  const logout = async () => {
    await callJson('/console/logout', { method: 'POST' });
    refresh();
  };
  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand">hrserve</span>
        <nav aria-label="Pages">
          <a
            href={hrefOf({ page: 'chat' })}
            aria-current={route.page === 'chat' ? 'page' : undefined}
          >
            Chat
          </a>
          <a
            href={hrefOf({ page: 'fleet' })}
            aria-current={route.page === 'fleet' ? 'page' : undefined}
          >
            Fleet
          </a>
        </nav>
        {session.login_required && (
          <button type="button" class="quiet" onClick={logout}>
            Log out
          </button>
        )}
      </header>
      {route.page === 'fleet' ? <FleetPage /> : <ChatPage route={route} />}
    </div>
  );
}
