// Access rules from a descriptor set (docs/spec.md §7): the `(reqauth.v1.access)` option of
// each method, read from the FileDescriptorSet that `buf build -o` or `protoc
// --descriptor_set_out` writes. This is the way for code generators whose service
// definitions carry no method options (grpc-tools, ts-proto, other protoc and buf plugins).
import * as protobuf from 'protobufjs/light';
import { ReqauthConfigError } from './errors';
import { ACCESS_OPTION, MethodWithOptions, Policy, policyFromServiceDefinition } from './policy';

/**
 * The parts of google/protobuf/descriptor.proto a policy needs, with their field numbers,
 * and the option as proto/reqauth/v1/options.proto declares it (field 51720 of
 * MethodOptions). Every other field is skipped as unknown.
 */
const DESCRIPTOR = protobuf.Root.fromJSON({
  nested: {
    FileDescriptorSet: { fields: { file: { rule: 'repeated', type: 'FileDescriptorProto', id: 1 } } },
    FileDescriptorProto: {
      fields: {
        name: { type: 'string', id: 1 },
        package: { type: 'string', id: 2 },
        service: { rule: 'repeated', type: 'ServiceDescriptorProto', id: 6 },
      },
    },
    ServiceDescriptorProto: {
      fields: {
        name: { type: 'string', id: 1 },
        method: { rule: 'repeated', type: 'MethodDescriptorProto', id: 2 },
      },
    },
    MethodDescriptorProto: {
      fields: {
        name: { type: 'string', id: 1 },
        options: { type: 'MethodOptions', id: 4 },
      },
    },
    MethodOptions: { fields: { access: { type: 'Access', id: 51720 } } },
    Access: {
      fields: {
        roles: { rule: 'repeated', type: 'string', id: 1 },
        principals: { rule: 'repeated', type: 'string', id: 2 },
        public: { type: 'bool', id: 3 },
      },
    },
  },
});
const FILE_DESCRIPTOR_SET = DESCRIPTOR.lookupType('FileDescriptorSet');

interface DecodedSet {
  file: { name?: string; package?: string; service: { name?: string; method: { name?: string; options?: { access?: unknown } }[] }[] }[];
}

/**
 * Rules from the `(reqauth.v1.access)` options of one service in a descriptor set, the
 * file written by `buf build -o ledger.binpb` or `protoc --include_imports
 * --descriptor_set_out=ledger.binpb ...`. Methods without the option get no rule, hence
 * are denied; a service none of whose methods declares it throws.
 *
 * ```ts
 * const policy = policyFromDescriptorSet(readFileSync('ledger.binpb'), 'ledger.v1.LedgerService');
 * ```
 *
 * @param bytes the serialized `google.protobuf.FileDescriptorSet`
 * @param service the service's full name, `package.Service`
 */
export function policyFromDescriptorSet(bytes: Uint8Array, service: string): Policy {
  let set: DecodedSet;
  try {
    set = FILE_DESCRIPTOR_SET.toObject(FILE_DESCRIPTOR_SET.decode(bytes), { arrays: true }) as DecodedSet;
  } catch {
    throw new ReqauthConfigError('policyFromDescriptorSet: not a descriptor set (a serialized google.protobuf.FileDescriptorSet)');
  }
  const found: { package: string; methods: DecodedSet['file'][number]['service'][number]['method'] }[] = [];
  const names: string[] = [];
  for (const file of set.file) {
    for (const s of file.service) {
      const fullName = file.package ? `${file.package}.${s.name ?? ''}` : (s.name ?? '');
      names.push(fullName);
      if (fullName === service) found.push({ package: file.package ?? '', methods: s.method });
    }
  }
  if (found.length === 0) {
    throw new ReqauthConfigError(
      `policyFromDescriptorSet: no service ${service} in the descriptor set` +
        (names.length > 0 ? ` (it has: ${names.sort().join(', ')})` : ' (it has no services)'),
    );
  }
  if (found.length > 1) throw new ReqauthConfigError(`policyFromDescriptorSet: service ${service} is defined ${found.length} times`);
  // The shape proto-loader gives a definition, so one reader checks both ways in.
  const definition: Record<string, MethodWithOptions> = {};
  for (const m of found[0]!.methods) {
    const path = `/${service}/${m.name ?? ''}`;
    definition[path] = { path, options: m.options?.access === undefined ? {} : { [ACCESS_OPTION]: m.options.access } };
  }
  return policyFromServiceDefinition(definition);
}
