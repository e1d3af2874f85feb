import { loadConfigOrExit, serve } from 'hrserve';
import { buildHelloApp } from './app.js';
import { helloConfigSchema } from './config.js';

const config = loadConfigOrExit(helloConfigSchema);
const app = await buildHelloApp(config);
await serve(app, config);
