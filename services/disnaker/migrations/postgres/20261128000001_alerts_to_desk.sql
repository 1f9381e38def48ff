-- Alerts move to the kit's alert desk (lintas_alerts), which also keeps their lifecycle.
INSERT INTO lintas_alerts (alert_id, rule, owner, severity, subject_key, summary, evidence,
                           raised_at_ms, review_by_ms, status, escalation_level, updated_at_ms)
SELECT alert_id, rule, 'disnaker', 'warning', subject_key, summary, evidence,
       raised_at_ms, NULL, 'open', 0, raised_at_ms
FROM alerts
ON CONFLICT (alert_id) DO NOTHING;
DROP TABLE alerts;
