import * as cdkErrors from 'aws-cdk-lib/core/lib/errors';
import { IConstruct } from 'constructs';

/**
 * aws-cdk-lib's typed synth-time errors (`Errors.isValidationError` is true for them), for every aws-cdk-lib the
 * peer range allows.
 *
 * The classes are `@internal` in aws-cdk-lib (packages/aws-cdk-lib/core/lib/errors.ts, exported from the package root
 * and from `aws-cdk-lib/core/lib/errors`) and their constructors changed: up to the release before aws/aws-cdk#36934
 * (2.211, our floor, among them) they take `(msg, scope)` and `(msg)`; since then an error code comes first,
 * `(code, msg, scope)` and `(code, msg)`. The constructor's declared parameter count tells which one is installed.
 * The message is the same either way; the code becomes the error's `name` where the installed version takes one.
 */
type ErrorClass = new (...args: any[]) => Error;

/** A `ValidationError` attached to `scope`: input that fails a rule of the construct at `scope`. */
export function validationError(code: string, message: string, scope: IConstruct): Error {
  return newConstructError(cdkErrors.ValidationError as unknown as ErrorClass, 3, code, message, scope);
}

/** A `ValidationError` without a construct: input to a data class (a factory, a static method) that is not a construct. */
export function unscopedValidationError(code: string, message: string): Error {
  return newConstructError(cdkErrors.UnscopedValidationError as unknown as ErrorClass, 2, code, message);
}

/** An `AssumptionError`: a rule of this library's own code does not hold, which is a bug in the library. */
export function assumptionError(code: string, message: string): Error {
  return newConstructError(cdkErrors.AssumptionError as unknown as ErrorClass, 2, code, message);
}

/**
 * `new errorClass(...)` with the arguments the installed signature takes: `withCodeArity` is the parameter count of
 * the signature that takes the code first; a class declaring fewer parameters takes the message first.
 */
export function newConstructError(errorClass: ErrorClass, withCodeArity: number, code: string, message: string, scope?: IConstruct): Error {
  const rest = scope === undefined ? [] : [scope];
  return errorClass.length >= withCodeArity ? new errorClass(code, message, ...rest) : new errorClass(message, ...rest);
}
