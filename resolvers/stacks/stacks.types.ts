import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { ArrayMaxSize, IsOptional, MaxLength, ValidateNested } from 'class-validator';
import { DockerActivity } from '../../entities';

@InputType({ description: 'An interpolation variable (`${NAME}` in the compose file), as the shell environment of `docker stack deploy` gives it.' })
export class StackVariableInput {
  @Field(() => String) @MaxLength(1000) name!: string;
  @Field(() => String) value!: string;
}

@InputType({ description: 'A file the compose file names (a secret, config or env_file `file:`), sent with the deploy: the path as written there and its content.' })
export class StackFileInput {
  @Field(() => String) @MaxLength(4096) path!: string;
  @Field(() => String) content!: string;
}

@InputType()
export class DeployStackInput {
  @Field(() => ID) clusterId!: string;
  @Field(() => String, { description: 'The stack name: the `<name>_` prefix of everything created and the com.docker.stack.namespace label.' }) @MaxLength(100) name!: string;
  @Field(() => String, { description: 'The compose file (YAML), at most 512 KiB.' }) compose!: string;
  @Field(() => [StackVariableInput], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) @ValidateNested() variables?: StackVariableInput[];
  @Field(() => [StackFileInput], { nullable: true }) @IsOptional() @ArrayMaxSize(100) @ValidateNested() files?: StackFileInput[];
}

@ObjectType()
export class DeployStackPayload {
  @Field(() => String) stack!: string;
  @Field(() => [String], { description: 'The services created or updated (`<stack>_<service>`).' }) services!: string[];
  @Field(() => [String], { description: 'What `docker stack deploy` would print as warnings (unsupported keys, unset variables).' }) warnings!: string[];
  @Field(() => DockerActivity) activity!: DockerActivity;
}
