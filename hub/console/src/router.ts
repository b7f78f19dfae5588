import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** Path segments after `#/`, decoded: `#/camera/a/b` → ['camera', 'a', 'b']. */
  parts: string[];
  query: URLSearchParams;
}

function parse(hash: string): Route {
  const [path = '', qs = ''] = hash.replace(/^#\/?/, '').split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(qs) };
}

/** The current hash route; re-renders on navigation. A hash router needs nothing from the server. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function href(parts: string[], query: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}

export function navigate(parts: string[], query: Record<string, string | number | undefined> = {}, replace = false) {
  const next = href(parts, query);
  if (replace) history.replaceState(null, '', next);
  else location.hash = next;
  if (replace) dispatchEvent(new HashChangeEvent('hashchange'));
}
