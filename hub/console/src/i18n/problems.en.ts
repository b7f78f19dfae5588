import type { problemsVi } from './problems.vi.js';

export const problemsEn: Record<keyof typeof problemsVi, string> = {
  'problem.unreachable': 'Camera does not answer',
  'problemHelp.unreachable':
    "Check the camera's power, network cable and IP address; ping it from the agent's machine.",
  'problem.auth_failed': 'Camera refuses the login',
  'problemHelp.auth_failed':
    "Check the camera's user name and password in the agent's configuration; the camera may have changed or locked them.",
  'problem.stream_unavailable': 'Video stream cannot be read',
  'problemHelp.stream_unavailable':
    'Check the RTSP port and the stream settings on the camera; restart the camera if it still answers.',
  'problem.stream_black': 'Picture is completely black',
  'problemHelp.stream_black': 'Go and look whether the lens is covered or painted, or the infrared lights failed.',
  'problem.stream_frozen': 'Picture is frozen',
  'problemHelp.stream_frozen':
    'The camera answers but the picture does not change: restart the camera; if it happens again, update its firmware.',
  'problem.low_fps': 'Low frame rate',
  'problemHelp.low_fps': 'Check the network bandwidth and the stream settings (resolution, bitrate) on the camera.',
  'problem.clock_skew': 'Camera clock is off',
  'problemHelp.clock_skew':
    'Turn on time synchronisation (NTP) on the camera; a wrong clock puts events at wrong times.',
  'problem.events_unsubscribed': 'No events from the camera ({reason})',
  'problemHelp.events_unsubscribed':
    'The agent could not subscribe to the camera events: check the camera has a free subscription slot, then restart the agent.',
  'problem.agent_offline': "Site's agent is offline",
  'problemHelp.agent_offline':
    "Check the power and Internet link of the site's agent machine; it sends what it kept once it is back.",
  'problem.no_heartbeat': 'No health reports',
  'problemHelp.no_heartbeat': 'The agent stopped reporting this camera: check the agent and its link to the hub.',
  'problem.no_health_data': 'No health report yet',
  'problemHelp.no_health_data': 'A new camera: wait a few minutes; if it stays so, check the agent configuration.',
  'problem.event_time_untrusted': 'Camera sent implausible event times: {count} event(s) dated when received',
  'problemHelp.event_time_untrusted': 'Turn on time synchronisation (NTP) on the camera and check its time zone.',
  'problem.events_not_supported': 'Camera does not offer ONVIF events',
  'problemHelp.events_not_supported':
    'This camera only gives pictures; for motion alerts turn on ONVIF events on it, or replace it with one that has them.',
  'problemReason.subscription_gone': 'the camera dropped the subscription; subscribing again',
  'problemReason.camera_unreachable': 'camera unreachable',
  'problemReason.subscribe_refused': 'the camera refuses to subscribe, possibly out of slots',
  'problemReason.auth_refused': 'the camera refuses authentication',
  'problemReason.connecting': 'connecting',
  'problemReason.pulls_stalled': 'subscribed, but no events are being fetched',
  'problemReason.not_started': 'not subscribed yet',
  'problemReason.events_not_supported': 'the camera has no events',
  'problemReason.unknown': 'reason unknown',
  'problem.unknownCode': 'Undescribed problem (code {code})',
  'problemHelp.unknownCode': 'See the technical detail (hover the line) and tell the administrator.',
  'problem.whatToDo': 'What to do',
};
