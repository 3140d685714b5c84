// package: ledger.v1
// file: ledger/v1/ledger.proto

/* tslint:disable */
/* eslint-disable */

import * as jspb from "google-protobuf";
import * as reqauth_v1_options_pb from "../../reqauth/v1/options_pb";

export class Transaction extends jspb.Message { 
    getId(): string;
    setId(value: string): Transaction;
    getFromAccount(): string;
    setFromAccount(value: string): Transaction;
    getToAccount(): string;
    setToAccount(value: string): Transaction;
    getAmount(): number;
    setAmount(value: number): Transaction;
    getMemo(): string;
    setMemo(value: string): Transaction;
    getAttachment(): Uint8Array | string;
    getAttachment_asU8(): Uint8Array;
    getAttachment_asB64(): string;
    setAttachment(value: Uint8Array | string): Transaction;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): Transaction.AsObject;
    static toObject(includeInstance: boolean, msg: Transaction): Transaction.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: Transaction, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): Transaction;
    static deserializeBinaryFromReader(message: Transaction, reader: jspb.BinaryReader): Transaction;
}

export namespace Transaction {
    export type AsObject = {
        id: string,
        fromAccount: string,
        toAccount: string,
        amount: number,
        memo: string,
        attachment: Uint8Array | string,
    }
}

export class PingRequest extends jspb.Message { 

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): PingRequest.AsObject;
    static toObject(includeInstance: boolean, msg: PingRequest): PingRequest.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: PingRequest, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): PingRequest;
    static deserializeBinaryFromReader(message: PingRequest, reader: jspb.BinaryReader): PingRequest;
}

export namespace PingRequest {
    export type AsObject = {
    }
}

export class PingResponse extends jspb.Message { 
    getServerTimeMs(): number;
    setServerTimeMs(value: number): PingResponse;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): PingResponse.AsObject;
    static toObject(includeInstance: boolean, msg: PingResponse): PingResponse.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: PingResponse, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): PingResponse;
    static deserializeBinaryFromReader(message: PingResponse, reader: jspb.BinaryReader): PingResponse;
}

export namespace PingResponse {
    export type AsObject = {
        serverTimeMs: number,
    }
}

export class GetBalanceRequest extends jspb.Message { 
    getAccount(): string;
    setAccount(value: string): GetBalanceRequest;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): GetBalanceRequest.AsObject;
    static toObject(includeInstance: boolean, msg: GetBalanceRequest): GetBalanceRequest.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: GetBalanceRequest, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): GetBalanceRequest;
    static deserializeBinaryFromReader(message: GetBalanceRequest, reader: jspb.BinaryReader): GetBalanceRequest;
}

export namespace GetBalanceRequest {
    export type AsObject = {
        account: string,
    }
}

export class GetBalanceResponse extends jspb.Message { 
    getAccount(): string;
    setAccount(value: string): GetBalanceResponse;
    getBalance(): number;
    setBalance(value: number): GetBalanceResponse;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): GetBalanceResponse.AsObject;
    static toObject(includeInstance: boolean, msg: GetBalanceResponse): GetBalanceResponse.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: GetBalanceResponse, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): GetBalanceResponse;
    static deserializeBinaryFromReader(message: GetBalanceResponse, reader: jspb.BinaryReader): GetBalanceResponse;
}

export namespace GetBalanceResponse {
    export type AsObject = {
        account: string,
        balance: number,
    }
}

export class TransferRequest extends jspb.Message { 

    hasTransaction(): boolean;
    clearTransaction(): void;
    getTransaction(): Transaction | undefined;
    setTransaction(value?: Transaction): TransferRequest;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): TransferRequest.AsObject;
    static toObject(includeInstance: boolean, msg: TransferRequest): TransferRequest.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: TransferRequest, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): TransferRequest;
    static deserializeBinaryFromReader(message: TransferRequest, reader: jspb.BinaryReader): TransferRequest;
}

export namespace TransferRequest {
    export type AsObject = {
        transaction?: Transaction.AsObject,
    }
}

export class TransferResponse extends jspb.Message { 
    getId(): string;
    setId(value: string): TransferResponse;
    getFromBalance(): number;
    setFromBalance(value: number): TransferResponse;
    getToBalance(): number;
    setToBalance(value: number): TransferResponse;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): TransferResponse.AsObject;
    static toObject(includeInstance: boolean, msg: TransferResponse): TransferResponse.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: TransferResponse, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): TransferResponse;
    static deserializeBinaryFromReader(message: TransferResponse, reader: jspb.BinaryReader): TransferResponse;
}

export namespace TransferResponse {
    export type AsObject = {
        id: string,
        fromBalance: number,
        toBalance: number,
    }
}

export class ListTransactionsRequest extends jspb.Message { 
    getAccount(): string;
    setAccount(value: string): ListTransactionsRequest;
    getLimit(): number;
    setLimit(value: number): ListTransactionsRequest;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): ListTransactionsRequest.AsObject;
    static toObject(includeInstance: boolean, msg: ListTransactionsRequest): ListTransactionsRequest.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: ListTransactionsRequest, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): ListTransactionsRequest;
    static deserializeBinaryFromReader(message: ListTransactionsRequest, reader: jspb.BinaryReader): ListTransactionsRequest;
}

export namespace ListTransactionsRequest {
    export type AsObject = {
        account: string,
        limit: number,
    }
}

export class ListTransactionsResponse extends jspb.Message { 

    hasTransaction(): boolean;
    clearTransaction(): void;
    getTransaction(): Transaction | undefined;
    setTransaction(value?: Transaction): ListTransactionsResponse;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): ListTransactionsResponse.AsObject;
    static toObject(includeInstance: boolean, msg: ListTransactionsResponse): ListTransactionsResponse.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: ListTransactionsResponse, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): ListTransactionsResponse;
    static deserializeBinaryFromReader(message: ListTransactionsResponse, reader: jspb.BinaryReader): ListTransactionsResponse;
}

export namespace ListTransactionsResponse {
    export type AsObject = {
        transaction?: Transaction.AsObject,
    }
}

export class ImportTransactionsRequest extends jspb.Message { 

    hasTransaction(): boolean;
    clearTransaction(): void;
    getTransaction(): Transaction | undefined;
    setTransaction(value?: Transaction): ImportTransactionsRequest;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): ImportTransactionsRequest.AsObject;
    static toObject(includeInstance: boolean, msg: ImportTransactionsRequest): ImportTransactionsRequest.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: ImportTransactionsRequest, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): ImportTransactionsRequest;
    static deserializeBinaryFromReader(message: ImportTransactionsRequest, reader: jspb.BinaryReader): ImportTransactionsRequest;
}

export namespace ImportTransactionsRequest {
    export type AsObject = {
        transaction?: Transaction.AsObject,
    }
}

export class ImportTransactionsResponse extends jspb.Message { 
    getImported(): number;
    setImported(value: number): ImportTransactionsResponse;
    getTotalAmount(): number;
    setTotalAmount(value: number): ImportTransactionsResponse;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): ImportTransactionsResponse.AsObject;
    static toObject(includeInstance: boolean, msg: ImportTransactionsResponse): ImportTransactionsResponse.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: ImportTransactionsResponse, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): ImportTransactionsResponse;
    static deserializeBinaryFromReader(message: ImportTransactionsResponse, reader: jspb.BinaryReader): ImportTransactionsResponse;
}

export namespace ImportTransactionsResponse {
    export type AsObject = {
        imported: number,
        totalAmount: number,
    }
}

export class ReconcileRequest extends jspb.Message { 

    hasTransaction(): boolean;
    clearTransaction(): void;
    getTransaction(): Transaction | undefined;
    setTransaction(value?: Transaction): ReconcileRequest;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): ReconcileRequest.AsObject;
    static toObject(includeInstance: boolean, msg: ReconcileRequest): ReconcileRequest.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: ReconcileRequest, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): ReconcileRequest;
    static deserializeBinaryFromReader(message: ReconcileRequest, reader: jspb.BinaryReader): ReconcileRequest;
}

export namespace ReconcileRequest {
    export type AsObject = {
        transaction?: Transaction.AsObject,
    }
}

export class ReconcileResponse extends jspb.Message { 
    getId(): string;
    setId(value: string): ReconcileResponse;
    getMatches(): boolean;
    setMatches(value: boolean): ReconcileResponse;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): ReconcileResponse.AsObject;
    static toObject(includeInstance: boolean, msg: ReconcileResponse): ReconcileResponse.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: ReconcileResponse, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): ReconcileResponse;
    static deserializeBinaryFromReader(message: ReconcileResponse, reader: jspb.BinaryReader): ReconcileResponse;
}

export namespace ReconcileResponse {
    export type AsObject = {
        id: string,
        matches: boolean,
    }
}

export class CloseAccountRequest extends jspb.Message { 
    getAccount(): string;
    setAccount(value: string): CloseAccountRequest;

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): CloseAccountRequest.AsObject;
    static toObject(includeInstance: boolean, msg: CloseAccountRequest): CloseAccountRequest.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: CloseAccountRequest, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): CloseAccountRequest;
    static deserializeBinaryFromReader(message: CloseAccountRequest, reader: jspb.BinaryReader): CloseAccountRequest;
}

export namespace CloseAccountRequest {
    export type AsObject = {
        account: string,
    }
}

export class CloseAccountResponse extends jspb.Message { 

    serializeBinary(): Uint8Array;
    toObject(includeInstance?: boolean): CloseAccountResponse.AsObject;
    static toObject(includeInstance: boolean, msg: CloseAccountResponse): CloseAccountResponse.AsObject;
    static extensions: {[key: number]: jspb.ExtensionFieldInfo<jspb.Message>};
    static extensionsBinary: {[key: number]: jspb.ExtensionFieldBinaryInfo<jspb.Message>};
    static serializeBinaryToWriter(message: CloseAccountResponse, writer: jspb.BinaryWriter): void;
    static deserializeBinary(bytes: Uint8Array): CloseAccountResponse;
    static deserializeBinaryFromReader(message: CloseAccountResponse, reader: jspb.BinaryReader): CloseAccountResponse;
}

export namespace CloseAccountResponse {
    export type AsObject = {
    }
}
