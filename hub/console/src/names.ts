import { useEffect, useState } from 'preact/hooks';
import { api, type CameraItem, type Site } from './api.js';
import { setSiteTimeZone } from './i18n/index.js';

/**
 * Display names of cameras (and sites, when the hub knows them), for every place the console would otherwise show
 * an id: ids like `cam-02` repeat at every site and mean nothing to an operator. Loaded once per session and kept
 * fresh by the views that list cameras anyway (`rememberCameras`).
 */
const cameraNames = new Map<string, string>();
const siteNames = new Map<string, string>();
const listeners = new Set<() => void>();
let loading: Promise<void> | null = null;

export function rememberCameras(items: CameraItem[]): void {
  let changed = false;
  for (const c of items) {
    const key = `${c.site}/${c.camera}`;
    if (c.name && cameraNames.get(key) !== c.name) {
      cameraNames.set(key, c.name);
      changed = true;
    }
    const siteName = (c as CameraItem & { siteName?: string | null }).siteName;
    if (siteName && siteNames.get(c.site) !== siteName) {
      siteNames.set(c.site, siteName);
      changed = true;
    }
  }
  if (changed) for (const l of listeners) l();
}

/** What the sites registry says of sites: their names for people and their time zones. */
export function rememberSites(items: Site[]): void {
  for (const s of items) {
    setSiteTimeZone(s.id, s.timeZone);
    if (s.name) siteNames.set(s.id, s.name);
    else siteNames.delete(s.id);
  }
  for (const l of listeners) l();
}

/** Loads the names once (later calls share the first load); failures leave ids in place and are retried. */
export function loadNames(): Promise<void> {
  loading ??= Promise.all([api.cameras().then(rememberCameras), api.sites().then(rememberSites)]).then(
    () => undefined,
    (err: Error) => {
      loading = null;
      console.warn('camera and site names not loaded', err.message);
    },
  );
  return loading;
}

export function cameraName(site: string, camera: string): string {
  return cameraNames.get(`${site}/${camera}`) ?? camera;
}

export function siteName(site: string): string {
  return siteNames.get(site) ?? site;
}

/** "Camera name · site name", or the site's name alone for site-wide things. */
export function placeName(site: string, camera: string | null | undefined): string {
  return camera ? `${cameraName(site, camera)} · ${siteName(site)}` : siteName(site);
}

/** Re-renders the caller when names arrive. */
export function useNames(): void {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const fn = () => setVersion((n) => n + 1);
    listeners.add(fn);
    void loadNames();
    return () => void listeners.delete(fn);
  }, []);
}
