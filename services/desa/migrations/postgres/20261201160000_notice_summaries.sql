-- A notice's summary by language code ({"id": …, "en": …} as JSON): village officers read
-- Bahasa Indonesia by default. `summary` stays the English text; rows from before (NULL
-- here) show it in every language.
ALTER TABLE notices ADD COLUMN summaries TEXT;
