import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { ISO_TIME_FORMAT, isValidIsoTime } from './ids.js';

/**
 * The one way camhub compiles a TypeBox schema. TypeBox's compiled checks look string formats up in its process-wide
 * FormatRegistry when they run, and refuse a value whose format is unknown; the contract's own formats are registered
 * here, by the code that needs them, instead of as a side effect of importing the schemas (which made importing
 * `ids.ts` change TypeBox for the whole process, whoever imported it first).
 */
export function compileSchema<T extends TSchema>(schema: T): TypeCheck<T> {
  if (!FormatRegistry.Has(ISO_TIME_FORMAT)) FormatRegistry.Set(ISO_TIME_FORMAT, isValidIsoTime);
  return TypeCompiler.Compile(schema);
}
