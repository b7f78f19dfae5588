import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError, type CameraViewStatus, type Problem } from '../api.js';
import { placeName } from '../names.js';
import { label, t } from '../i18n/index.js';
import { errorText, problemHelp, problemText } from '../words.js';

export function StatusBadge({ status }: { status: CameraViewStatus | string }) {
  return <span class={`badge status-${status}`}>{label('status', status)}</span>;
}

export function SeverityBadge({ severity }: { severity: string }) {
  return <span class={`badge severity-${severity}`}>{label('severity', severity)}</span>;
}

/**
 * Shows an API failure in the user's words with what to do (never the browser's "Failed to fetch"); the call and the
 * raw message stay in a tooltip for whoever has to report it.
 */
export function ErrorNotice({ error, what }: { error: ApiError | null; what: string }) {
  if (!error) return null;
  const text = error.missingRoute ? t('common.notAvailable') : errorText(error);
  return (
    <p
      class={error.missingRoute ? 'notice' : 'notice error'}
      role={error.missingRoute ? 'status' : 'alert'}
      title={t('common.technicalDetail', { detail: `${what} → ${error.status} ${error.code}: ${error.message}` })}
    >
      {text}
    </p>
  );
}

/** Problems of a camera in words; with `help`, each with what a technician does about it. */
export function Problems({ problems, help = false }: { problems: Problem[]; help?: boolean }) {
  if (problems.length === 0) return <>—</>;
  return (
    <ul class="problems">
      {problems.map((p) => (
        <li
          key={p.code}
          data-problem={p.code}
          title={p.message ? t('common.technicalDetail', { detail: p.message }) : undefined}
        >
          {problemText(p)}
          {help && (
            <span class="problem-help small muted">
              {' '}
              — {t('problem.whatToDo')}: {problemHelp(p)}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

export function Loading({ when, children }: { when: boolean; children?: ComponentChildren }) {
  return when ? (
    <p class="muted" aria-live="polite">
      {t('common.loading')}
    </p>
  ) : (
    <>{children}</>
  );
}

/** Blob URLs of protected images, shared by every tile and list (snapshots are immutable: cache by path). */
const blobCache = new Map<string, Promise<string>>();
const BLOB_CACHE_MAX = 300;

function loadBlobUrl(path: string): Promise<string> {
  let p = blobCache.get(path);
  if (!p) {
    p = api.blob(path).then((b) => URL.createObjectURL(b));
    p.catch(() => blobCache.delete(path));
    blobCache.set(path, p);
    if (blobCache.size > BLOB_CACHE_MAX) {
      const [oldest, oldestUrl] = blobCache.entries().next().value as [string, Promise<string>];
      blobCache.delete(oldest);
      void oldestUrl.then(
        (u) => URL.revokeObjectURL(u),
        () => undefined,
      );
    }
  }
  return p;
}

/**
 * An image behind the API's Bearer auth (an <img src> cannot send it). A snapshot may be announced before the agent
 * has uploaded it (404 snapshot_pending): retry a few times.
 */
export function ProtectedImage({ path, alt, class: cls }: { path: string; alt: string; class?: string }) {
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setFailed(false);
    const attempt = (n: number) => {
      loadBlobUrl(path).then(
        (u) => !cancelled && setSrc(u),
        (err: ApiError) => {
          if (cancelled) return;
          if (err.code === 'snapshot_pending' && n < 6) timer = setTimeout(() => attempt(n + 1), 1500);
          else setFailed(true);
        },
      );
    };
    attempt(0);
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [path]);
  if (failed) return <div class={`noimg ${cls ?? ''}`}>{t('history.noSnapshot')}</div>;
  if (!src) return <div class={`noimg ${cls ?? ''}`} aria-busy="true" />;
  return <img class={cls} src={src} alt={alt} />;
}

/** A camera (or site) by its display name; the ids in a tooltip. */
export function Place({ site, camera }: { site: string; camera?: string | null }) {
  return <span title={camera ? `${site}/${camera}` : site}>{placeName(site, camera)}</span>;
}
