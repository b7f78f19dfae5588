-- camhub 011: the registry of participating units (sites). A site id is the segment of its agent's MQTT topics;
-- the row says what the place is for people: name, kind, address, contact, time zone (alert schedules and
-- notifications are in the site's local time), when it joined, whether it is still active. Sites the hub hears
-- from before anyone registers them have no row: the API lists them as unregistered.
CREATE TABLE sites (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('residential_group', 'business', 'school', 'market', 'public_place',
                                             'public_office', 'other')),
  address       text NOT NULL DEFAULT '',
  contact_name  text NOT NULL DEFAULT '',
  contact_phone text NOT NULL DEFAULT '',
  time_zone     text NOT NULL,
  joined_on     date,
  notes         text NOT NULL DEFAULT '',
  active        boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
