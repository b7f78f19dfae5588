-- camhub 013: the cameras registry and remote adoption. A row says, for people, what a camera is called and where it
-- is; for an adopted camera (`adopted`) it also holds the connection the hub delivers to the site's agent, its
-- password sealed with the hub key (notify/secrets.ts), never in clear. `enabled = false` stops the camera at its
-- agent whichever side defined it. Cameras the agent's YAML defines need no row until someone names or disables them.
CREATE TABLE camera_registry (
  site        text NOT NULL,
  camera      text NOT NULL,
  name        text,
  location    text NOT NULL DEFAULT '',
  enabled     boolean NOT NULL DEFAULT true,
  adopted     boolean NOT NULL DEFAULT false,
  host        text,
  port        integer CHECK (port BETWEEN 1 AND 65535),
  username    text,
  secrets     text,
  profile     text,
  sub_profile text,
  -- The WS-Discovery endpoint it was adopted from (urn:uuid:…), so the console stops offering it.
  endpoint    text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, camera),
  CHECK (NOT adopted OR (host IS NOT NULL AND port IS NOT NULL AND username IS NOT NULL AND secrets IS NOT NULL))
);

-- Each site's desired configuration version (grows with every change to its cameras) and the last one published.
CREATE TABLE site_configs (
  site              text PRIMARY KEY,
  version           bigint NOT NULL,
  changed_at        timestamptz NOT NULL DEFAULT now(),
  published_version bigint,
  published_at      timestamptz
);

-- What the agent says it runs (AgentStatus.config): the version, a refused one, each camera's result.
ALTER TABLE agents ADD COLUMN config jsonb;
