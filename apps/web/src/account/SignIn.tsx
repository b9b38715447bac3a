import { useState } from 'react';
import { useSession } from '../session';

/** The token form; also where the account's messages (wrong token, failed actions) appear. */
export function SignIn() {
  const { session, pending, message, signIn, signOut } = useSession();
  const [token, setToken] = useState('');
  return (
    <>
      <form
        id="signin"
        onSubmit={(e) => {
          e.preventDefault();
          const t = token.trim();
          if (!t) return;
          signIn(t);
          setToken('');
        }}
      >
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="dw_…"
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <button type="submit" disabled={pending}>
          Sign in
        </button>
        {session && (
          <button type="button" id="signout" onClick={signOut}>
            Sign out
          </button>
        )}
      </form>
      <p id="account-message" role="alert">
        {message}
      </p>
    </>
  );
}
