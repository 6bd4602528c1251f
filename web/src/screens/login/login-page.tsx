import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../../api/client';
import { safeNextPath } from '../../auth/next-path';
import { useSession, useSignIn } from '../../auth/session';
import { LanguageSwitch } from '../../shell/language-switch';
import { Field } from '../../ui/field';
import { usePageTitle } from '../../ui/page-title';
import { fieldError } from '../../ui/problem';

export function LoginPage() {
  const { t } = useTranslation();
  usePageTitle(t('login.title'));
  const session = useSession({ probe: false });
  const signIn = useSignIn();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNextPath(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  if (session.data) return <Navigate to={next} replace />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate({ email, password }, { onSuccess: () => navigate(next, { replace: true }) });
  };
  const error = signIn.error;
  // A wrong email or password names no field: it is said under the button, for both.
  const general = error && !(error instanceof ApiError && error.errors.length > 0) ? messageOf(error, t) : undefined;

  return (
    <div className="login">
      <header className="login-header">
        <span className="brand">trackguard</span>
        <LanguageSwitch />
      </header>
      <main id="main" className="login-card">
        <h1>{t('login.title')}</h1>
        <form onSubmit={submit} noValidate>
          <Field label={t('login.email')} type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} error={fieldError(error, 'email')} />
          <Field
            label={t('login.password')}
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fieldError(error, 'password')}
          />
          {general ? (
            <p className="error" role="alert">
              {general}
            </p>
          ) : null}
          <button type="submit" className="primary" disabled={signIn.isPending}>
            {t('login.submit')}
          </button>
        </form>
      </main>
    </div>
  );
}

function messageOf(error: Error, t: (key: string) => string): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return t('login.wrongCredentials');
    if (error.status === 429) return t('login.tooManyAttempts');
  }
  return t('common.error');
}
