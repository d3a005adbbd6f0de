import { conformance } from './suite';

conformance('fork');
