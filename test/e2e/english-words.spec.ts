import { describe, expect, it } from 'vitest';
import { englishWordsIn } from './english-words.js';

describe('englishWordsIn', () => {
  it('finds the English the hub used to send, and lets Vietnamese, ids and technical names pass', () => {
    expect(englishWordsIn('tự hết — system: the condition cleared')).toEqual(['system', 'the', 'condition', 'cleared']);
    expect(englishWordsIn('Lỗi: Failed to fetch')).toEqual(['failed', 'fetch']);
    expect(englishWordsIn('Camera cam-02 · Trường THCS td-01 — ONVIF, RTSP, NTP, Webhook, SHA-256')).toEqual([]);
    expect(englishWordsIn('Mất kết nối từ 22:10')).toEqual([]);
    expect(englishWordsIn('0190b2be-4dbe-7c1a-be12-9f3e4a5b6c7d')).toEqual([]);
    // Accented words are whole words: "Hoạt động" is not "ho" + "t", and Vietnamese "do", "to", "no" pass.
    expect(englishWordsIn('Hoạt động do camera báo; luồng video; Mã bí mật (token)')).toEqual([]);
    expect(englishWordsIn('Camera offline at cho-phuong/cam-02: camera is offline (unreachable)')).toEqual([
      'offline',
      'at',
      'is',
      'unreachable',
    ]);
  });
});
