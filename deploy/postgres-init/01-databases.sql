-- Nexam: one database per service (DESIGN section 2: no service reads another's tables).
--
-- The postgres image runs the files of /docker-entrypoint-initdb.d once, in name order, on the
-- first start with an empty data volume, connected as POSTGRES_USER (`nexam`), who therefore
-- owns every database below. To run it again, remove the volume: `docker compose down -v`.
-- Each service's `<service>-migrate` container then creates the tables (Alembic).
--
-- Keep this list in step with deploy/compose.yaml (tests/test_deploy.py checks it).

CREATE DATABASE identity;
CREATE DATABASE invitations;
CREATE DATABASE notifier;
CREATE DATABASE exams;
CREATE DATABASE devicecheck;

-- Only the owner (and superusers) may connect; add a role per service here to separate them
-- further, and give it in that service's <SERVICE>_DATABASE_URL.
REVOKE CONNECT ON DATABASE identity FROM PUBLIC;
REVOKE CONNECT ON DATABASE invitations FROM PUBLIC;
REVOKE CONNECT ON DATABASE notifier FROM PUBLIC;
REVOKE CONNECT ON DATABASE exams FROM PUBLIC;
REVOKE CONNECT ON DATABASE devicecheck FROM PUBLIC;
