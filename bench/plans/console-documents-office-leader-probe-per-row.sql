SET jit = off;
-- the same with the unit/assignee probe kept per row: the confidential rows only, probed on (document_id, unit_id)
EXPLAIN (ANALYZE, SUMMARY) SELECT id FROM incoming_documents d WHERE (d.confidentiality = 'normal' OR EXISTS (SELECT 1 FROM assignments a WHERE a.document_id = d.id AND (a.unit_id = 1 OR a.assignee_id = 2) OFFSET 0)) ORDER BY received_at DESC, id DESC LIMIT 25;
EXPLAIN (ANALYZE, SUMMARY) SELECT count(*) FROM (SELECT id FROM incoming_documents d WHERE (d.confidentiality = 'normal' OR EXISTS (SELECT 1 FROM assignments a WHERE a.document_id = d.id AND (a.unit_id = 1 OR a.assignee_id = 2) OFFSET 0)) LIMIT 1001) s;
