-- camhub 009: alerts keep codes and parameters, never sentences (the console words them in the user's language).
-- alerts.reason {code, params} says what an alert is about; alert_conditions.reason replaces the English detail;
-- system history entries keep their reason in data (condition_cleared, not_acknowledged) instead of a note.
-- The default rules get Vietnamese names (names are for people: the operators read Vietnamese).

ALTER TABLE alerts ADD COLUMN reason jsonb;
UPDATE alerts SET reason = jsonb_build_object('code', COALESCE(condition, 'events'), 'params', '{}'::jsonb);
UPDATE alerts SET resolve_note = NULL WHERE resolved_by = 'system' AND resolve_note = 'the condition cleared';

ALTER TABLE alert_conditions ADD COLUMN reason jsonb;
UPDATE alert_conditions c SET reason = jsonb_build_object('code', COALESCE(r.condition, 'unknown'), 'params', '{}'::jsonb)
  FROM alert_rules r WHERE r.id = c.rule_id;
UPDATE alert_conditions SET reason = '{"code":"unknown","params":{}}'::jsonb WHERE reason IS NULL;
ALTER TABLE alert_conditions ALTER COLUMN reason SET NOT NULL;
ALTER TABLE alert_conditions DROP COLUMN detail;

UPDATE alert_history SET note = NULL, data = COALESCE(data, '{}'::jsonb) || '{"reason":"condition_cleared"}'::jsonb
  WHERE actor = 'system' AND action = 'auto_resolved';
UPDATE alert_history SET note = NULL, data = COALESCE(data, '{}'::jsonb) || '{"reason":"not_acknowledged"}'::jsonb
  WHERE actor = 'system' AND action = 'escalated';
UPDATE alert_history SET note = NULL WHERE actor = 'system' AND action = 'opened';

CREATE TEMP TABLE default_rule_names (en text PRIMARY KEY, vi text NOT NULL, description text NOT NULL);
INSERT INTO default_rule_names VALUES
  ('Intrusion or line crossing', 'Xâm nhập hoặc vượt hàng rào ảo', 'Mọi sự kiện xâm nhập hoặc vượt hàng rào ảo, bất kể giờ'),
  ('Storage failure', 'Lỗi lưu trữ', 'Camera báo thẻ nhớ/ổ lưu trữ bị lỗi'),
  ('Night motion', 'Chuyển động ban đêm', 'Chuyển động ban đêm (22:00–05:00 giờ địa phương); bật cho nơi không có người ban đêm'),
  ('Camera offline', 'Camera mất kết nối', 'Camera mất kết nối (hoặc không rõ tình trạng vì lý do khác ngoài bộ thu) quá 5 phút'),
  ('Agent offline', 'Bộ thu tại điểm mất kết nối', 'Bộ thu (edge agent) của một điểm mất kết nối quá 5 phút: không thấy camera nào ở đó'),
  ('Tamper', 'Camera bị che/can thiệp', 'Camera bị che, bị xoay hoặc mất nét'),
  ('Video loss', 'Mất hình', 'Mất hình ảnh: camera báo mất tín hiệu hoặc hình bị đứng'),
  ('Clock skew', 'Lệch giờ camera', 'Đồng hồ camera lệch quá 5 giây so với hub trong 10 phút'),
  ('Event subscription down', 'Không nhận được sự kiện', 'Bộ thu không đăng ký được sự kiện của camera trong 10 phút');
UPDATE alert_rules r SET name = d.vi, description = d.description FROM default_rule_names d WHERE r.name = d.en;
UPDATE alerts a SET rule_name = d.vi FROM default_rule_names d WHERE a.rule_name = d.en;
UPDATE alerts SET title = rule_name || ' — ' || CASE WHEN camera IS NULL THEN site ELSE site || '/' || camera END;
DROP TABLE default_rule_names;
