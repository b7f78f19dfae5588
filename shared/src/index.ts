export * from './api.js';
export * from './decode.js';
export * from './ids.js';
export * from './schemas.js';
export * from './topics.js';
export * from './alerts.js';
export * from './auth.js';
export * from './video.js';
