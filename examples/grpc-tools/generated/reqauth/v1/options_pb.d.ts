// package: reqauth.v1
// file: reqauth/v1/options.proto

/* tslint:disable */
/* eslint-disable */

import * as jspb from "google-protobuf";
import * as google_protobuf_descriptor_pb from "google-protobuf/google/protobuf/descriptor_pb";

export class Access extends jspb.Message { 
    clearRolesList(): void;
    getRolesList(): Array<string>;
    setRolesList(value: Array<string>): Access;
    addRoles(value: string, index?: number): string;
    clearPrincipalsList(): void;
    getPrincipalsList(): Array<string>;
    setPrincipalsList(value: Array<string>): Access;
    addPrincipals(value: string, index?: number): string;
    getPublic(): boolean;
    setPublic(value: boolean): Access;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): Access.AsObject;
    static toObject(includeInstance: boolean, msg: Access): Access.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: Access, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): Access;
    static deserializeBinaryFromReader(message: Access, reader: jspb.BinaryReader): Access;
}

export namespace Access {
    export type AsObject = {
        rolesList: Array<string>,
        principalsList: Array<string>,
        pb_public: boolean,
    }
}

export const access: jspb.ExtensionFieldInfo<Access>;
