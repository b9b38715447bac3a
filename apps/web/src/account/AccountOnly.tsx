import type { ReactNode } from 'react';
import { useSession } from '../session';
import { SignIn } from './SignIn';

/** A view for signed-in users: the sign-in form until then. */
export function AccountOnly({ title, titleId, children }: { title: string; titleId: string; children: ReactNode }) {
  const { session } = useSession();
  return (
    <>
      <section aria-labelledby={titleId} className="wide">
        <h2 id={titleId}>{title}</h2>
        {!session && <p className="muted">Sign in with your API token to see this page.</p>}
        <SignIn />
      </section>
      {session && children}
    </>
  );
}
