-- camhub 006: login attempts are reserved before the password is checked (issue 19). A reserved attempt is a
-- pending failure until its check ends, so parallel guesses count against the limits at once; pending rows also
-- count the checks in flight per user and per IP.
ALTER TABLE login_attempts ADD COLUMN pending boolean NOT NULL DEFAULT false;
CREATE INDEX login_attempts_pair_idx ON login_attempts (username, ip, at);
CREATE INDEX login_attempts_pending_idx ON login_attempts (at) WHERE pending;
