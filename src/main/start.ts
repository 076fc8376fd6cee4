import { main } from './run.js';

await main(['web', 'worker', 'scheduler']);
