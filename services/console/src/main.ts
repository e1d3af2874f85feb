import { loadConfigOrExit, serve } from 'hrserve';
import { buildConsoleApp } from './app.js';
import { consoleConfigSchema } from './config.js';

const config = loadConfigOrExit(consoleConfigSchema);
const { app, sampler } = await buildConsoleApp(config);
await serve(app, config);
sampler.start();
