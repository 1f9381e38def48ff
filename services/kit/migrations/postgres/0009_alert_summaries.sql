-- An alert's summary by language code ({"id": …, "en": …} as JSON): officers read Bahasa
-- Indonesia by default, English on request. `summary` stays the English text; rows from
-- before (NULL here) show it in every language.
ALTER TABLE lintas_alerts ADD COLUMN summaries TEXT;
