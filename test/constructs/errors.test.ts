import { Errors } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { IConstruct } from 'constructs';
import { newStack } from './support';
import { DeployTarget, ImageSigner } from '../../src';
import { newConstructError } from '../../src/private/errors';

function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('synth-time errors are aws-cdk-lib ValidationErrors', () => {
  test('a construct rejecting its props throws a ValidationError naming the construct path, with the message unchanged', () => {
    const stack = newStack();
    const repository = new ecr.Repository(stack, 'Repository');
    const error = thrown(() => new ImageSigner(stack, 'Signer', { signingProfiles: [], repositories: [repository] }));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.constructPath).toBe(`${stack.node.path}/Signer`);
    expect(error.message).toBe('signingProfiles: give at least one signing profile to sign with');
  });

  test('a data class rejecting its options throws an unscoped ValidationError', () => {
    const error = thrown(() => DeployTarget.custom({ actions: [] }));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.constructPath).toBeUndefined();
    expect(error.message).toBe('DeployTarget.custom: give at least one action');
  });

  test('the error classes of aws-cdk-lib releases before error codes (message first) get the message first', () => {
    class MessageFirst extends Error {
      constructor(message: string, public readonly scope?: IConstruct) {
        super(message);
      }
    }
    class CodeFirst extends Error {
      constructor(public readonly code: string, message: string, public readonly scope?: IConstruct) {
        super(message);
      }
    }
    const scope = newStack();
    const legacy = newConstructError(MessageFirst, 3, 'Code', 'the message', scope) as MessageFirst;
    expect([legacy.message, legacy.scope]).toEqual(['the message', scope]);
    const current = newConstructError(CodeFirst, 3, 'Code', 'the message', scope) as CodeFirst;
    expect([current.code, current.message, current.scope]).toEqual(['Code', 'the message', scope]);
  });
});
