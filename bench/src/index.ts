import { composeBench } from './compose.js';
import { report } from './measure.js';

const samples = [...(await composeBench())];
console.log(report('Gatehouse benchmarks', samples));
