import { useState } from 'preact/hooks';
import { Alert } from './alert';
import { callJson, describeError } from './api';

/**
 * Asked once per browser session when the console has API keys: the key goes to the
 * console, which answers with an httpOnly session cookie; the page never keeps the key.
 */
export function LoginPage({ onLoggedIn }: { onLoggedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await callJson('/console/login', { json: { api_key: key } });
      setError(undefined);
      onLoggedIn();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="centered">
      <h1>hrserve console</h1>
      <form class="login" onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="current-password"
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          required
        />
        <button type="submit" disabled={busy || !key}>
          Log in
        </button>
        <Alert message={error} />
      </form>
    </main>
  );
}
