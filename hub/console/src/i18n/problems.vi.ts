/**
 * Health problem codes (from the agent and the hub): what it is, and what a technician does about it. One entry per
 * code, kept apart from the rest of the catalogue so that a new code is a two-line change here and in problems.en.ts.
 */
export const problemsVi = {
  'problem.unreachable': 'Camera không trả lời',
  'problemHelp.unreachable': 'Kiểm tra nguồn điện, dây mạng và địa chỉ IP của camera; thử ping từ máy đặt bộ thu.',
  'problem.auth_failed': 'Camera từ chối tài khoản đăng nhập',
  'problemHelp.auth_failed':
    'Kiểm tra tên đăng nhập và mật khẩu camera trong cấu hình bộ thu; camera có thể đã đổi mật khẩu hoặc khoá tài khoản.',
  'problem.stream_unavailable': 'Không đọc được luồng video',
  'problemHelp.stream_unavailable':
    'Kiểm tra cổng RTSP và cấu hình luồng trên camera; khởi động lại camera nếu nó vẫn trả lời.',
  'problem.stream_black': 'Hình ảnh đen hoàn toàn',
  'problemHelp.stream_black': 'Ra tận nơi xem ống kính có bị che, bị sơn, hoặc đèn hồng ngoại bị hỏng.',
  'problem.stream_frozen': 'Hình ảnh bị đứng',
  'problemHelp.stream_frozen':
    'Camera vẫn trả lời nhưng hình không đổi: khởi động lại camera; nếu còn lặp lại, cập nhật phần mềm camera.',
  'problem.low_fps': 'Số khung hình/giây thấp',
  'problemHelp.low_fps': 'Kiểm tra băng thông mạng và cấu hình luồng (độ phân giải, tốc độ bit) trên camera.',
  'problem.clock_skew': 'Đồng hồ camera bị lệch',
  'problemHelp.clock_skew': 'Bật đồng bộ giờ (NTP) trên camera; giờ sai làm sai thời điểm của sự kiện và bằng chứng.',
  'problem.events_unsubscribed': 'Không nhận được sự kiện từ camera ({reason})',
  'problemHelp.events_unsubscribed':
    'Bộ thu chưa đăng ký được sự kiện của camera: kiểm tra camera còn phiên đăng ký trống, rồi khởi động lại bộ thu.',
  'problem.agent_offline': 'Bộ thu tại điểm mất kết nối',
  'problemHelp.agent_offline':
    'Kiểm tra nguồn điện và đường Internet của máy bộ thu tại điểm; khi có mạng lại, dữ liệu sẽ được gửi bù.',
  'problem.no_heartbeat': 'Không nhận được báo cáo tình trạng',
  'problemHelp.no_heartbeat': 'Bộ thu không còn báo về camera này: kiểm tra bộ thu và kết nối của nó tới hub.',
  'problem.no_health_data': 'Chưa có báo cáo tình trạng',
  'problemHelp.no_health_data': 'Camera mới được thêm: chờ vài phút; nếu vẫn vậy, kiểm tra cấu hình bộ thu.',
  'problem.event_time_untrusted': 'Camera gửi giờ sự kiện không hợp lệ: {count} sự kiện đã được ghi theo giờ nhận',
  'problemHelp.event_time_untrusted': 'Bật đồng bộ giờ (NTP) trên camera và kiểm tra múi giờ cài trong camera.',
  'problem.events_not_supported': 'Camera không hỗ trợ gửi sự kiện ONVIF',
  'problemHelp.events_not_supported':
    'Camera này chỉ xem được hình; muốn có cảnh báo chuyển động, bật ONVIF/sự kiện trên camera hoặc thay camera có hỗ trợ.',
  'problemReason.subscription_gone': 'camera đã huỷ đăng ký, đang đăng ký lại',
  'problemReason.camera_unreachable': 'mất kết nối với camera',
  'problemReason.subscribe_refused': 'camera từ chối đăng ký, có thể đã hết chỗ',
  'problemReason.auth_refused': 'camera từ chối xác thực',
  'problemReason.connecting': 'đang kết nối',
  'problemReason.pulls_stalled': 'đã đăng ký nhưng không lấy được sự kiện',
  'problemReason.not_started': 'chưa đăng ký',
  'problemReason.events_not_supported': 'camera không hỗ trợ sự kiện',
  'problemReason.unknown': 'chưa rõ lý do',
  'problem.unknownCode': 'Sự cố chưa có mô tả (mã {code})',
  'problemHelp.unknownCode': 'Xem chi tiết kỹ thuật (di chuột vào dòng) và báo cho quản trị viên.',
  'problem.whatToDo': 'Cách xử lý',
};
