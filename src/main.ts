// Process entry (bin/seler.js runs the compiled form of this file).
import { main } from './cli.js';

await main(process.argv);
