import { conformance } from './suite';

conformance('thread');
