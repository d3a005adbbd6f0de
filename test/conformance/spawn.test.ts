import { conformance } from './suite';

conformance('spawn');
