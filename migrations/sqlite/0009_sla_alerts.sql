-- slaAlerts finds the running clocks that turn AT_RISK in a window of time;
-- those that turn BREACHED use sla_timers_running_deadline.
CREATE INDEX IF NOT EXISTS sla_timers_running_at_risk ON sla_timers (at_risk_at) WHERE stopped_at IS NULL;
