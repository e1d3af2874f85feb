// Preloaded with `node --import ./dist/telemetry.js` so OpenTelemetry patches http before fastify loads.
import { setupOtel } from 'hrserve/telemetry';
import packageJson from '../package.json' with { type: 'json' };

setupOtel('console', packageJson.version);
