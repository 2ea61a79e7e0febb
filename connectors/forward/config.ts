// The forward connector has no options, as in the Collector.
import { s, type Infer } from '../../pipeline/config/schema';

export const configSchema = s.object({});

export type ForwardConfig = Infer<typeof configSchema>;
