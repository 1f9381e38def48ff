-- Alerts move to the kit's alert desk (lintas_alerts), which also keeps their lifecycle; the
-- recruiter an alert is about stays here.
CREATE TABLE recruiter_alerts (
    alert_id TEXT PRIMARY KEY,
    recruiter_key TEXT NOT NULL
);
CREATE INDEX recruiter_alerts_by_recruiter ON recruiter_alerts (recruiter_key);
INSERT INTO recruiter_alerts (alert_id, recruiter_key)
SELECT alert_id, recruiter_key FROM alerts WHERE recruiter_key IS NOT NULL;
INSERT INTO lintas_alerts (alert_id, rule, owner, severity, subject_key, summary, evidence,
                           raised_at_ms, review_by_ms, status, escalation_level, updated_at_ms)
SELECT alert_id, rule, 'polri', CASE WHEN rule = 'PO2' THEN 'priority' ELSE 'warning' END,
       subject_key, summary, evidence, raised_at_ms, NULL, 'open', 0, raised_at_ms
FROM alerts
ON CONFLICT (alert_id) DO NOTHING;
DROP TABLE alerts;
