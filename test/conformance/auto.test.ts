import { conformance } from './suite';

conformance('auto');
