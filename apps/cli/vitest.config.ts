import { packageTestConfig } from '../../vitest.shared.js';

// The tests start a real server on a database cloned from the migrated template.
export default packageTestConfig({ withDatabase: true });
