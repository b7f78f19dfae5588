import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, session } from './api.js';
import { canOpen, EVENT_READERS, hasAnyRole, homeView, NAV_VIEWS, type ViewName } from './access.js';
import { resolveUser, type Signed, signIn, signOut } from './auth.js';
import { Rail } from './components/rail.js';
import { Ctx } from './context.js';
import { currentLang, formatDateTime, label, type MessageKey, onLangChange, setLang, t } from './i18n/index.js';
import { LiveFeed, type LiveMode } from './live.js';
import { href, navigate, useRoute } from './router.js';
import { AdminView } from './views/admin.js';
import { AlertsView } from './views/alerts.js';
import { CameraView } from './views/camera.js';
import { HealthCameraView, HealthView } from './views/health.js';
import { HistoryView } from './views/history.js';
import { ReportsView } from './views/reports.js';
import { WallView } from './views/wall.js';
import { errorText } from './words.js';

/**
 * The console's link to the hub, for every view: green while live, red (with since when, and a note that figures may
 * be out of date) while the hub cannot be reached. The feed reconnects by itself; this only tells the truth.
 */
function ConnectionState({ live }: { live: LiveFeed }) {
  const [mode, setMode] = useState<LiveMode>(live.mode);
  useEffect(() => live.onMode(setMode), [live]);
  const down = mode === 'down';
  const text = down
    ? t('conn.down', { time: formatDateTime(live.downSince, undefined, 'hm') })
    : t(`conn.${mode}` as MessageKey);
  return (
    <p class={`connection conn-${mode}`} data-connection={mode} role={down ? 'alert' : 'status'}>
      <span class={`dot conn-${mode}`} aria-hidden="true" /> {text}
    </p>
  );
}

function LangSwitch() {
  const next = currentLang() === 'vi' ? 'en' : 'vi';
  return (
    <button type="button" class="link" lang={next} aria-label={t('lang.switchLabel')} onClick={() => setLang(next)}>
      {t('lang.switch')}
    </button>
  );
}

function Login({ onSigned, expired }: { onSigned: (s: Signed) => void; expired: boolean }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(expired ? t('auth.expired') : null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const signed = await signIn(username, password);
      if (signed) onSigned(signed);
      else setError(t('auth.failed'));
    } catch (err) {
      setError(
        err instanceof ApiError
          ? err.status === 401 || err.status === 400
            ? t('auth.failed')
            : errorText(err)
          : t('error.other', { code: 'client_error' }),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">camhub — {t('auth.login')}</h1>
        <label>
          {t('auth.username')}
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          {t('auth.password')}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="notice error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {t('auth.login')}
        </button>
        <LangSwitch />
      </form>
    </main>
  );
}

function Shell({ signed, onSignOut }: { signed: Signed; onSignOut: () => void }) {
  const route = useRoute();
  const { user } = signed;
  const live = useMemo(() => new LiveFeed(hasAnyRole(user, EVENT_READERS)), [user]);
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);

  const home = homeView(user);
  const view = (route.parts[0] ?? home ?? '') as ViewName;
  useEffect(() => {
    if (!route.parts[0] && home) navigate([home], {}, true);
  }, [route.parts[0], home]);

  const allowed = view && canOpen(user, view);
  const showRail = allowed && (view === 'wall' || view === 'camera') && hasAnyRole(user, EVENT_READERS);
  let body = null;
  if (!allowed) body = <p class="notice">{t('common.forbidden')}</p>;
  else if (view === 'wall') body = <WallView route={route} />;
  else if (view === 'camera') body = <CameraView site={route.parts[1] ?? ''} camera={route.parts[2] ?? ''} />;
  else if (view === 'alerts') body = <AlertsView route={route} />;
  else if (view === 'health' && route.parts.length >= 3)
    body = <HealthCameraView site={route.parts[1]!} camera={route.parts[2]!} route={route} />;
  else if (view === 'health') body = <HealthView route={route} />;
  else if (view === 'history') body = <HistoryView route={route} />;
  else if (view === 'reports') body = <ReportsView />;
  else if (view === 'admin') body = <AdminView route={route} />;

  return (
    <Ctx.Provider value={{ user, live }}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        {t('app.skip')}
      </a>
      <header class="top">
        <span class="brand">camhub</span>
        <nav aria-label={t('nav.main')}>
          <ul>
            {NAV_VIEWS.filter((v) => canOpen(user, v)).map((v) => (
              <li key={v}>
                <a
                  href={href([v])}
                  aria-current={view === v || (v === 'wall' && view === 'camera') ? 'page' : undefined}
                >
                  {t(`nav.${v as Exclude<ViewName, 'camera'>}`)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="muted">
            {signed.open
              ? t('auth.openMode')
              : `${t('auth.signedInAs', { user: user.username })} · ${user.roles.map((r) => label('role', r)).join(', ')}`}
          </span>
          <LangSwitch />
          {!signed.open && (
            <button type="button" class="link" onClick={onSignOut}>
              {t('auth.logout')}
            </button>
          )}
        </div>
      </header>
      <ConnectionState live={live} />
      <div class={showRail ? 'layout with-rail' : 'layout'}>
        <main id="main" tabIndex={-1} data-view={view}>
          {body}
        </main>
        {showRail && <Rail />}
      </div>
    </Ctx.Provider>
  );
}

export function App() {
  const [, setLangVersion] = useState(0);
  const [signed, setSigned] = useState<Signed | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const [fatal, setFatal] = useState<string | null>(null);
  useEffect(() => onLangChange(() => setLangVersion((n) => n + 1)), []);
  useEffect(() => {
    document.documentElement.lang = currentLang();
    session.onUnauthorized(() => {
      setExpired(true);
      setSigned(null);
    });
    resolveUser().then(setSigned, (err: unknown) =>
      setFatal(err instanceof ApiError ? errorText(err) : t('error.other', { code: 'client_error' })),
    );
  }, []);
  if (fatal)
    return (
      <p class="notice error" role="alert">
        {fatal}
      </p>
    );
  if (signed === undefined) return <p class="muted">{t('common.loading')}</p>;
  if (signed === null)
    return (
      <Login
        expired={expired}
        onSigned={(s) => {
          setExpired(false);
          setSigned(s);
        }}
      />
    );
  return (
    <Shell
      signed={signed}
      onSignOut={() => {
        void signOut().then(() => {
          location.hash = '';
          setSigned(null);
        });
      }}
    />
  );
}
