import { conformance } from './suite';

conformance('forkserver');
