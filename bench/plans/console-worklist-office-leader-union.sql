\timing on
-- the work list of gen_chanhvp (office leader, user 2, unit 1), as the app writes it (one OR), then as a UNION of its branches
EXPLAIN (ANALYZE, BUFFERS, SUMMARY) SELECT d.id FROM incoming_documents d WHERE d.id IN (
  SELECT id FROM incoming_documents WHERE state = 'office_review'
  UNION
  SELECT a.document_id FROM assignments a JOIN incoming_documents x ON x.id = a.document_id
   WHERE a.state = 'in_progress' AND a.assignee_id = 2 AND a.role <> 'inform' AND x.state IN ('in_progress', 'resolved'))
 AND (d.confidentiality = 'normal' OR EXISTS (SELECT 1 FROM assignments WHERE document_id = d.id AND unit_id = 1)
      OR EXISTS (SELECT 1 FROM assignments WHERE document_id = d.id AND assignee_id = 2))
 ORDER BY CASE WHEN d.urgency = 'flash' THEN 0 WHEN d.urgency = 'very_urgent' THEN 1 WHEN d.urgency = 'urgent' THEN 2 WHEN d.urgency = 'normal' THEN 3 ELSE 4 END,
   d.effective_due_date IS NULL, d.effective_due_date, d.received_at, d.id LIMIT 50;
